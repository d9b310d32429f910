using System.Text.RegularExpressions;
using DecodeAlign.Tasks;
using DecodeAlign.Tasks.Arith;

namespace DecodeAlign.Tasks.Tests;

public class ArithTaskTests
{
    private readonly ArithTask _task = new();

    [Fact]
    public void Generation_is_deterministic()
    {
        foreach (var split in new[] { Split.Train, Split.Validation, Split.Test })
            for (var i = 0; i < 200; i++)
                Assert.Equal(_task.Generate(split, i), new ArithTask().Generate(split, i));
    }

    [Fact]
    public void Known_problem_is_pinned_so_committed_models_stay_valid()
    {
        // If this changes, the generator changed: bump GeneratorVersion and retrain the models under models/arith.
        var p = _task.Generate(Split.Test, 0);
        Assert.Equal("Sam has 50 cards. He gets 10 cards from Noah. How many cards does Sam have now?", p.Question);
        Assert.Equal("Sam has 50 cards. 50 + 10 = 60. The answer is 60.", p.Solution);
        Assert.Equal("60", p.Answer);
    }

    [Fact]
    public void Split_seed_ranges_are_disjoint()
    {
        var last = Splits.Capacity - 1;
        Assert.True(Splits.Seed(Split.Train, last) < Splits.Seed(Split.Validation, 0));
        Assert.True(Splits.Seed(Split.Validation, last) < Splits.Seed(Split.Test, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.Seed(Split.Train, Splits.Capacity));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.Seed(Split.Train, -1));
    }

    [Fact]
    public void Splits_rarely_share_a_question()
    {
        var train = _task.Problems(Split.Train, 5000).Select(p => p.Question).ToHashSet();
        var overlap = _task.Problems(Split.Test, 1000).Count(p => train.Contains(p.Question));
        Assert.True(overlap <= 5, $"{overlap} of 1000 test questions also occur in 5000 train problems");
    }

    [Fact]
    public void Solutions_are_correct_and_quantities_stay_in_range()
    {
        var eq = new Regex(@"^(\d+) ([-+/]) (\d+) = (\d+)\.$");
        foreach (var p in _task.Problems(Split.Train, 3000))
        {
            Assert.True(_task.IsCorrect(p, _task.Response(p)));
            var sentences = p.Solution.Split(". ").Select(s => s.EndsWith('.') ? s : s + ".").ToArray();
            var current = int.Parse(Regex.Match(sentences[0], @"has (\d+) ").Groups[1].Value);
            var ops = 0;
            foreach (var s in sentences.Skip(1).SkipLast(1))
            {
                var m = eq.Match(s);
                Assert.True(m.Success, $"bad equation '{s}' in {p.Solution}");
                var (a, b, c) = (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[3].Value), int.Parse(m.Groups[4].Value));
                Assert.Equal(current, a);
                var expected = m.Groups[2].Value switch { "+" => a + b, "-" => a - b, _ => a / b };
                if (m.Groups[2].Value == "/") Assert.Equal(0, a % b);
                Assert.Equal(expected, c);
                Assert.InRange(c, 0, 999);
                current = c;
                ops++;
            }
            Assert.InRange(ops, 1, 4);
            Assert.Equal(current.ToString(), p.Answer);
            Assert.Equal($"The answer is {p.Answer}.", sentences[^1]);
        }
    }

    [Fact]
    public void All_operations_and_lengths_occur()
    {
        var problems = _task.Problems(Split.Train, 2000).ToList();
        foreach (var word in new[] { "finds", "buys", "gets", "loses", "gives", "shares" })
            Assert.Contains(problems, p => p.Question.Contains(" " + word + " "));
        for (var k = 1; k <= 4; k++)
            Assert.Contains(problems, p => p.Solution.Count(c => c == '=') == k);
    }

    [Fact]
    public void Prompt_and_response_have_the_trained_format()
    {
        var p = _task.Generate(Split.Validation, 3);
        Assert.Equal($"Q: {p.Question}\nA:", _task.Prompt(p));
        Assert.Equal(" " + p.Solution, _task.Response(p));
    }

    [Theory]
    [InlineData("The answer is 14.", "14")]
    [InlineData(" Mia has 3 pens. 3 + 11 = 14. The answer is 14.", "14")]
    [InlineData("The answer is 14", "14")]
    [InlineData("The answer is 014.", "14")]
    [InlineData("The answer is 000.", "0")]
    [InlineData("The answer is -3.", "-3")]
    [InlineData("The answer is -0.", "0")]
    [InlineData("The answer is 14. The answer is 15.", "14")]
    [InlineData("The answer is 14.5", "14")]
    [InlineData("The answer is 12345678901234567890123.", "12345678901234567890123")]
    [InlineData("", null)]
    [InlineData("Mia has 3 pens. 3 + 11 = 14.", null)]
    [InlineData("The answer is .", null)]
    [InlineData("the answer is 14.", null)]
    [InlineData("The answer is fourteen.", null)]
    public void Extracts_the_first_stated_answer(string response, string? expected) =>
        Assert.Equal(expected, _task.ExtractAnswer(response));

    [Fact]
    public void Checker_grades_extra_text_negatives_and_missing_answers()
    {
        var p = _task.Generate(Split.Test, 0); // answer 60
        Assert.True(_task.IsCorrect(p, " The answer is 60.<junk after>"));
        Assert.True(_task.IsCorrect(p, "The answer is 060."));
        Assert.False(_task.IsCorrect(p, "The answer is -60."));
        Assert.False(_task.IsCorrect(p, "The answer is 600."));
        Assert.False(_task.IsCorrect(p, "Sam has 60 cards."));
        Assert.False(_task.IsCorrect(p, "The answer is 61. The answer is 60."));
    }

    [Fact]
    public void Registry_resolves_arith_and_rejects_unknown_names()
    {
        Assert.Equal("arith", TaskRegistry.Get("ARITH").Name);
        Assert.Throws<ArgumentException>(() => TaskRegistry.Get("nope"));
        Assert.Equal(Split.Validation, Splits.Parse("val"));
        Assert.Throws<ArgumentException>(() => Splits.Parse("holdout"));
    }

    [Fact]
    public void Rng_is_uniform_enough_and_respects_bounds()
    {
        var rng = new CounterRng(42);
        var counts = new int[6];
        for (var i = 0; i < 60000; i++) counts[rng.Next(0, 5)]++;
        Assert.All(counts, c => Assert.InRange(c, 9500, 10500));
        Assert.Equal(new CounterRng(7).NextUInt64(), new CounterRng(7).NextUInt64());
        Assert.NotEqual(new CounterRng(7).NextUInt64(), new CounterRng(8).NextUInt64());
    }
}
