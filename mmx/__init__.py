"""The program: the composition root that wires the exchange to its workers. It is the only
code that knows both ``exchange`` and ``workers`` (the import-linter contracts in the test
suite say so); everything else depends one way, workers -> exchange -> standards."""
