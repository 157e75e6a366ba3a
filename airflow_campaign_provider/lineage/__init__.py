"""Lineage of the campaign operators: what each read and changed (``effects``), the asset events
it publishes (``publish``) and its OpenLineage datasets (``openlineage``, imported only by the
OpenLineage provider's calls). See ``docs/lineage.md``."""
