"""Text utilities shared by the judge and the translation layer: normalisation and language identification."""
