"""``meshgov query``'s engine: the consumer's SQL over Lake Formation-governed Parquet data, as an
integrated engine runs it (:mod:`.engine`: ``run_query``, ``QueryError``), with its SQL handling
(:mod:`.sql`), its S3 reader (:mod:`.s3_data`) and the Glue type mapping shared with the local
mesh's producer (:mod:`.glue_types`).

Nothing is imported here: DuckDB and pyarrow load only when a query runs, not with every
``meshgov`` command."""
