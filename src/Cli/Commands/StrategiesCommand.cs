using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using DecodeAlign.Decoding;

namespace DecodeAlign.Cli.Commands;

/// <summary><c>decodealign strategies</c>: lists every catalog strategy with the potentials it needs and the options it reads.</summary>
internal static class StrategiesCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the catalog as JSON." };
        var cmd = new Command("strategies", "List the decoding strategies, the potentials each needs and the options each reads.") { json };
        cmd.SetAction(pr =>
        {
            if (pr.GetValue(json))
            {
                var all = new JsonArray(StrategyCatalog.All.Select(e => (JsonNode)new JsonObject
                {
                    ["name"] = e.Name,
                    ["summary"] = e.Summary,
                    ["requires"] = new JsonArray(e.Requires.Select(r => (JsonNode)r.ToString()).ToArray()),
                    ["uses"] = new JsonArray(e.Uses.Select(r => (JsonNode)r.ToString()).ToArray()),
                    ["streams"] = e.Streams,
                    ["budget"] = e.Budget,
                    ["options"] = new JsonArray(e.Options.Select(o => (JsonNode)new JsonObject
                    {
                        ["name"] = o.Name,
                        ["kind"] = o.Kind.ToString(),
                        ["default"] = o.Default,
                        ["description"] = o.Description,
                    }).ToArray()),
                }).ToArray());
                Console.Out.WriteLine(all.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
                return 0;
            }
            foreach (var e in StrategyCatalog.All)
            {
                Console.Out.WriteLine($"{e.Name}  {e.Summary}");
                Console.Out.WriteLine($"    needs: {(e.Requires.Count == 0 ? "-" : string.Join(", ", e.Requires))}{(e.Uses.Count == 0 ? "" : $"; uses: {string.Join(", ", e.Uses)}")}; streams: {(e.Streams ? "yes" : "no")}{(e.Budget is null ? "" : $"; --n: {e.Budget}")}");
                foreach (var o in e.Options)
                    Console.Out.WriteLine($"    --{o.Name,-22} {o.Description}{(o.Default.Length > 0 ? $" (default {o.Default})" : "")}");
            }
            return 0;
        });
        return cmd;
    }
}
