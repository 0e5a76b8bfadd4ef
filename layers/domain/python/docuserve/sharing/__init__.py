"""Partner share links: the item contract, link management, redemption and lockout."""
