"""Tests of the model-driven AWS Query codec, with botocore as the oracle."""
