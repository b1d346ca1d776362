"""pytest plugin for oci-vault-emulator; the fixtures and markers live in `plugin`."""
from .emulator import AdminError, Emulator, EmulatorError

__all__ = ["AdminError", "Emulator", "EmulatorError"]
