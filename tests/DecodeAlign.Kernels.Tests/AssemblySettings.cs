// The ILGPU backend instance is shared across test classes and is not thread-safe; the tests are small anyway.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
