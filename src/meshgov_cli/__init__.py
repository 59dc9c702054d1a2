"""The ``meshgov`` command line: the demo, the local mesh, and watching it."""
