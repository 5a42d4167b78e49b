// Trace module.
