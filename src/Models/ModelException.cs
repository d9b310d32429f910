namespace DecodeAlign.Models;

/// <summary>
/// A user-facing error from the Models layer: a bad file, a bad input or a model that produced unusable numbers.
/// Messages name the file or tensor and what was expected; callers (the CLI) print the message without a stack trace.
/// </summary>
public class ModelException : Exception
{
    /// <summary>Creates the error with a complete, specific message.</summary>
    public ModelException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A model or tokenizer file is missing, unreadable or not of the expected layout.</summary>
public sealed class ModelLoadException : ModelException
{
    /// <summary>The file or folder that could not be used.</summary>
    public string Path { get; }

    /// <summary>Creates the error for <paramref name="path"/>.</summary>
    public ModelLoadException(string path, string message, Exception? inner = null)
        : base($"{(path.Length == 0 ? "(an empty path)" : path)}: {message}", inner) => Path = path;
}

/// <summary>A sequence would grow past the model's context length.</summary>
public sealed class ContextLengthExceededException : ModelException
{
    /// <summary>Creates the error for a sequence of <paramref name="length"/> tokens against a limit of <paramref name="contextLength"/>.</summary>
    public ContextLengthExceededException(int length, int contextLength, string what = "sequence")
        : base($"The {what} needs {length} tokens but the model's context length is {contextLength}.") { }
}

/// <summary>The model produced NaN (or +infinity) where finite numbers were required.</summary>
public sealed class NonFiniteOutputException : ModelException
{
    /// <summary>Creates the error naming the output tensor and row.</summary>
    public NonFiniteOutputException(string tensor, int row, string source)
        : base($"{source}: output '{tensor}' has NaN or +infinity values in batch row {row}; the model or its inputs are broken.") { }
}

/// <summary>The tokenizer and the model disagree about the vocabulary.</summary>
public sealed class VocabularyMismatchException : ModelException
{
    /// <summary>Creates the error with both sizes and their sources.</summary>
    public VocabularyMismatchException(string tokenizerSource, int tokenizerVocab, string modelSource, int modelVocab)
        : base($"Tokenizer {tokenizerSource} has {tokenizerVocab} tokens but model {modelSource} outputs logits over {modelVocab}; they do not belong together.") { }
}
