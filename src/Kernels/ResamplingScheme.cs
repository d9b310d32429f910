namespace DecodeAlign.Kernels;

/// <summary>How SMC ancestor indices are drawn from normalised weights (Doucet &amp; Johansen, "A tutorial on particle filtering and smoothing", 2009, §3.4).</summary>
public enum ResamplingScheme
{
    /// <summary>One uniform u per group; positions (u + j)/N for j = 0 … N−1.</summary>
    Systematic,

    /// <summary>N independent uniforms per group.</summary>
    Multinomial,
}
