namespace DecodeAlign.Kernels;

/// <summary>How guidance scores are combined with the base scores of each row's candidates.</summary>
public enum FusionMode
{
    /// <summary>VAS (Han et al. 2024): base(a) + Σ_i w_i (s_i(a) − mean over the row's k candidates of s_i).</summary>
    Centered,

    /// <summary>ARGS (Khanov et al. 2024): base(a) + Σ_i w_i s_i(a), no centring.</summary>
    Raw,
}
