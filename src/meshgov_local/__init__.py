"""The local mesh: AWS behaviour that moto lacks, the event router and the demo.

Lambda code (``layers/`` and ``functions/``) never imports this package: it exists only to run
meshgov's real code against an emulated, three-account AWS on one machine.
"""
