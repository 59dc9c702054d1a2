"""Lineage (issue 15): OpenLineage run events from the members' jobs, kept as a graph in central,
joined at query time with the edges meshgov itself knows (producer table -> central table ->
consumer link -> principal). See docs/adr/0018-lineage.md."""
