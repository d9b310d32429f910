namespace DecodeAlign.Benchmarks.Peers;

/// <summary>One inference engine in the peer harness, holding one model loaded; runs plain decoding of a batch.</summary>
internal interface IPeerEngine : IDisposable
{
    /// <summary>Short name printed in the table and written to peers.json.</summary>
    string Name { get; }

    /// <summary>The engine's thread setting, as reported beside the figures.</summary>
    string Settings { get; }

    /// <summary>
    /// Decodes <paramref name="batch"/> copies of <paramref name="prompt"/> for exactly <paramref name="newTokens"/> new
    /// tokens each (EOS does not stop a row), sampling at temperature 1 from the full vocabulary, or greedily; returns
    /// the new tokens of row 0.
    /// </summary>
    int[] Generate(int[] prompt, int batch, int newTokens, bool greedy, ulong seed);
}
