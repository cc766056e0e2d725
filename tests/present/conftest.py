"""The pack tests' fixtures (tests/present/pack_fixtures.py): a fixed pseudonym key for
every test, a tiny provider on disk, its hand-made audit and context."""

from pack_fixtures import audit, ctx, ctx_pii, provider_dir, pseudonym_key

__all__ = ["audit", "ctx", "ctx_pii", "provider_dir", "pseudonym_key"]
