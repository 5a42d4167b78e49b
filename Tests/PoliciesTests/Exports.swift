// The shared helpers (Tiny, Run, RealModel, SplitMix64) for every file of this target,
// as when they were defined here.
@_exported import TestSupport
