"""The provenance database: schema, migrations, every SQL statement, the hash chain."""
