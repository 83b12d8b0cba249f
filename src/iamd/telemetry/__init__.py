"""What the process tells its operators: the access log, Prometheus metrics and the log
record format, shared by every front (HTTP and git over SSH)."""
