// Offload module.
