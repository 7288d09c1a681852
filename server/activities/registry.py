"""The built-in werkvormen, registered by kind (imported by `base.get`)."""
