"""Assets by layer: raw (ingest), staging, intermediate (identity, sessions), marts."""
