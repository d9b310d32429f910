using System.Text.Json;

namespace DecodeAlign.Cli.Tests;

/// <summary>`decodealign eval` on the built-in arith models: every strategy runs and reports, and bad options fail first.</summary>
public class EvalTests
{
    private static JsonElement Json(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Theory]
    [InlineData("sample")]
    [InlineData("greedy")]
    [InlineData("bon")]
    [InlineData("mv")]
    [InlineData("wmv")]
    [InlineData("args")]
    [InlineData("vas")]
    [InlineData("qalign")]
    [InlineData("smc")]
    public void Every_strategy_evaluates_and_reports_its_compute(string strategy)
    {
        var e = Json(CliRunner.Run("eval", "--task", "arith", "--strategy", strategy, "--n", "4", "--problems", "3", "--json"));
        Assert.Equal(strategy, e.GetProperty("strategy").GetString());
        Assert.Equal(3, e.GetProperty("problems").GetInt32());
        Assert.InRange(e.GetProperty("accuracy").GetDouble(), 0, 1);
        Assert.True(e.GetProperty("lm_tokens").GetInt64() > 0);
        Assert.True(e.GetProperty("wall_seconds").GetDouble() > 0);
        if (strategy is not ("sample" or "greedy" or "mv")) Assert.True(e.GetProperty("rm_calls").GetInt64() > 0, "a reward-guided strategy made no reward calls");
    }

    [Theory]
    [InlineData("bon")]
    [InlineData("smc")]
    public void Thread_count_does_not_change_the_results(string strategy)
    {
        // --threads 0 picks one thread or every processor by the width of the calls (bon: 8 × 8 = 64 rows here), so the
        // figures must not depend on it: same accuracy, rewards and token counts on 1 and 2 intra-op threads.
        string Figures(string threads)
        {
            var e = Json(CliRunner.Run("eval", "--strategy", strategy, "--n", "8", "--problems", "8", "--batch", "8", "--threads", threads, "--json"));
            return string.Join(";", e.EnumerateObject().Where(p => p.Name != "wall_seconds").Select(p => $"{p.Name}={p.Value.GetRawText()}"));
        }
        var one = Figures("1");
        Assert.Contains("mean_reward=", one);
        Assert.Equal(one, Figures("2"));
        Assert.Equal(one, Figures("0"));
    }

    [Fact]
    public void Reward_report_gives_auc_ranking_and_accuracy_over_the_samples()
    {
        var e = Json(CliRunner.Run("eval", "--task", "arith", "--reward-report", "--problems", "15", "--json"));
        Assert.Equal(60, e.GetProperty("samples").GetInt32()); // 4 samples per problem by default
        // The verifier separates correct from wrong samples far better than chance even on 60 of them.
        Assert.InRange(e.GetProperty("auc").GetDouble(), 0.7, 1.0);
        Assert.InRange(e.GetProperty("accuracy_at_0_5").GetDouble(), 0, 1);
        Assert.True(e.GetProperty("pairs").GetInt64() > 0);
        Assert.InRange(e.GetProperty("within_problem_ranking").GetDouble(), 0, 1);
    }

    [Theory]
    [InlineData("likelihood")]
    [InlineData("calc")]
    [InlineData("likelihood=1,calc=0.5,keyword:/answer is [0-9]+/=0.1")]
    public void Reward_report_works_for_any_reward_spec(string spec)
    {
        var e = Json(CliRunner.Run("eval", "--task", "arith", "--reward-report", "--reward", spec, "--problems", "8", "--samples-per-problem", "3", "--json"));
        Assert.Equal(spec, e.GetProperty("reward").GetString());
        Assert.Equal(24, e.GetProperty("samples").GetInt32());
        Assert.InRange(e.GetProperty("auc").GetDouble(), 0, 1);
        var pairs = e.GetProperty("pairs").GetInt64();
        Assert.True(pairs > 0);
        Assert.InRange(e.GetProperty("within_problem_ranking").GetDouble(), 0, 1);
    }

    [Theory]
    [InlineData("bon", "calc")]
    [InlineData("mv", "calc")]
    [InlineData("wmv", "calc")]
    [InlineData("qalign", "calc")]
    [InlineData("smc", "calc")]
    [InlineData("args", "calc")]
    [InlineData("bon", "verifier=1,calc=0.5")]
    [InlineData("mv", "verifier=1,calc=0.5")]
    [InlineData("wmv", "verifier=1,calc=0.5")]
    [InlineData("qalign", "verifier=1,calc=0.5")]
    [InlineData("smc", "verifier=1,calc=0.5")]
    [InlineData("args", "verifier=1,calc=0.5")]
    public void Programmatic_and_composite_rewards_run_with_every_reward_strategy(string strategy, string spec)
    {
        var e = Json(CliRunner.Run("eval", "--task", "arith", "--strategy", strategy, "--reward", spec, "--n", "3", "--problems", "2", "--json"));
        Assert.Equal(strategy, e.GetProperty("strategy").GetString());
        Assert.Equal(2, e.GetProperty("problems").GetInt32());
        var reward = e.GetProperty("mean_reward").GetDouble();
        if (spec == "calc") Assert.InRange(reward, -10, 0); // minus the wrong equations
        // The learned verifier's compute is traced through the composite (calc alone runs no model).
        if (spec != "calc" && strategy is not "mv") Assert.True(e.GetProperty("rm_tokens").GetInt64() > 0);
    }

    [Theory]
    [InlineData("beta must be > 0", "--strategy", "vas", "--beta", "0")]
    [InlineData("n must be >= 1", "--strategy", "bon", "--n", "0")]
    [InlineData("top-k 1000 exceeds the vocabulary (465)", "--strategy", "args", "--top-k", "1000")]
    public void Bad_strategy_options_are_rejected_with_a_specific_message(string message, params string[] options)
    {
        CliRunner.AssertUserError(CliRunner.Run(["eval", "--task", "arith", "--problems", "2", .. options]), message);
    }
}
