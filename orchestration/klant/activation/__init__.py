"""Activation: segments of the published build exported per destination, hashed, with consent."""

from klant.activation.assets import build_activation_assets

__all__ = ["build_activation_assets"]
