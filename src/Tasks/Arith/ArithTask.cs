using System.Text;

namespace DecodeAlign.Tasks.Arith;

/// <summary>
/// Grade-school word problems: a person holds some objects, 1 to 4 operations change the count (find, buy, lose, give,
/// share equally), and the reference solution writes one equation per operation before "The answer is N.".
/// Every quantity stays a non-negative integer (shares only when divisible), with at most 3 digits.
/// </summary>
public sealed class ArithTask : IEvalTask
{
    /// <summary>The name of this task on the command line.</summary>
    public const string TaskName = "arith";

    /// <summary>Bumped whenever generation changes, because committed models were trained on one version's problems.</summary>
    public const int GeneratorVersion = 1;

    private static readonly (string Name, bool She)[] People =
    [
        ("Mia", true), ("Leo", false), ("Ava", true), ("Noah", false), ("Emma", true), ("Liam", false), ("Zoe", true),
        ("Omar", false), ("Ivy", true), ("Ben", false), ("Lucy", true), ("Sam", false), ("Nora", true), ("Eli", false),
        ("Ruby", true), ("Max", false), ("Ella", true), ("Finn", false), ("Aria", true), ("Jack", false),
    ];

    private static readonly string[] Objects =
    [
        "pens", "apples", "marbles", "stickers", "books", "cards", "shells", "coins",
        "cookies", "stamps", "pencils", "balloons", "toys", "candies", "beads", "rocks",
    ];

    private enum Op { Find, Buy, Get, Lose, Give, Share }

    private static readonly Op[] AllOps = [Op.Find, Op.Buy, Op.Get, Op.Lose, Op.Give, Op.Share];

    /// <summary>The largest starting quantity.</summary>
    public const int MaxStart = 60;

    /// <summary>The largest amount one operation adds or removes.</summary>
    public const int MaxAmount = 40;

    /// <inheritdoc />
    public string Name => TaskName;

    /// <inheritdoc />
    public Problem Generate(Split split, int index)
    {
        var rng = new CounterRng(Splits.Seed(split, index) ^ ((ulong)GeneratorVersion << 56));
        var person = rng.Pick(People);
        var friend = person;
        while (friend.Name == person.Name) friend = rng.Pick(People);
        var obj = rng.Pick(Objects);
        var (pron, poss) = person.She ? ("she", "her") : ("he", "his");
        var opCount = rng.Next(1, 4);
        var x = rng.Next(2, MaxStart);

        var question = new StringBuilder($"{person.Name} has {x} {obj}.");
        var solution = new StringBuilder($"{person.Name} has {x} {obj}.");
        for (var i = 0; i < opCount; i++)
        {
            var lead = i == 0 ? Capitalise(pron) : "Then " + pron;
            var (op, n) = PickOperation(ref rng, x);
            int y;
            string sentence, equation;
            switch (op)
            {
                case Op.Find:
                    y = x + n; sentence = $"{lead} finds {n} more {obj}."; equation = $"{x} + {n} = {y}."; break;
                case Op.Buy:
                    y = x + n; sentence = $"{lead} buys {n} more {obj}."; equation = $"{x} + {n} = {y}."; break;
                case Op.Get:
                    y = x + n; sentence = $"{lead} gets {n} {obj} from {friend.Name}."; equation = $"{x} + {n} = {y}."; break;
                case Op.Lose:
                    y = x - n; sentence = $"{lead} loses {n} {obj}."; equation = $"{x} - {n} = {y}."; break;
                case Op.Give:
                    y = x - n; sentence = $"{lead} gives {n} {obj} to {friend.Name}."; equation = $"{x} - {n} = {y}."; break;
                default:
                    y = x / n;
                    sentence = $"{lead} shares {poss} {obj} equally among {n} friends and keeps one share.";
                    equation = $"{x} / {n} = {y}.";
                    break;
            }
            question.Append(' ').Append(sentence);
            solution.Append(' ').Append(equation);
            x = y;
        }
        question.Append($" How many {obj} does {person.Name} have now?");
        var answer = x.ToString(System.Globalization.CultureInfo.InvariantCulture);
        solution.Append($" The answer is {answer}.");
        return new Problem(TaskName, split, index, question.ToString(), solution.ToString(), answer);
    }

    // Draws an operation that keeps the count a non-negative integer: removals need at least 2 objects, shares an exact division.
    private static (Op Op, int Amount) PickOperation(ref CounterRng rng, int x)
    {
        Span<int> divisors = stackalloc int[4];
        while (true)
        {
            var op = rng.Pick(AllOps);
            switch (op)
            {
                case Op.Find or Op.Buy or Op.Get:
                    return (op, rng.Next(2, MaxAmount));
                case Op.Lose or Op.Give when x >= 2:
                    return (op, rng.Next(2, Math.Min(x, MaxAmount)));
                case Op.Share:
                    var count = 0;
                    for (var k = 2; k <= 5; k++) if (x >= k && x % k == 0) divisors[count++] = k;
                    if (count > 0) return (op, divisors[rng.Next(0, count - 1)]);
                    break;
            }
        }
    }

    private static string Capitalise(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>"Q: question\nA:", the format the arith models were trained on.</summary>
    public string Prompt(Problem problem) => $"Q: {problem.Question}\nA:";

    /// <summary>The solution after a single space, as the models generate it after the prompt.</summary>
    public string Response(Problem problem) => " " + problem.Solution;

    /// <inheritdoc />
    public string? ExtractAnswer(string response) => ArithAnswer.Extract(response);

    /// <inheritdoc />
    public bool IsCorrect(Problem problem, string response) => ExtractAnswer(response) == problem.Answer;
}
