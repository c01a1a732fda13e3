"""Schemas of run() arguments: `DataTypes`, `SampleDefinition`, and one schema class per data type."""
