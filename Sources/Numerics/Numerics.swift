// Numerics module.
