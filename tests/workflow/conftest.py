"""The flow tests' tiny model and fake uMLIP verifier, for the campaign tests here."""

from tests.flows.conftest import fake_verifier, tiny_model  # noqa: F401 (fixtures)
