"""Learning from the operators: every decision on an incident's labels kept as a labelled example."""
