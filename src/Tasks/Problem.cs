namespace DecodeAlign.Tasks;

/// <summary>One generated problem: its question, a reference worked solution and the exact answer the checker expects.</summary>
/// <param name="Task">Name of the task that generated it.</param>
/// <param name="Split">Split it belongs to.</param>
/// <param name="Index">Index within the split (with the split, determines the problem).</param>
/// <param name="Question">The problem text shown to the model.</param>
/// <param name="Solution">The reference worked solution, ending in the final answer.</param>
/// <param name="Answer">The canonical final answer (as <see cref="IEvalTask.ExtractAnswer"/> returns it).</param>
public sealed record Problem(string Task, Split Split, int Index, string Question, string Solution, string Answer);
