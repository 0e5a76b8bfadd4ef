"""Upload requests (file requests): a member asks a partner for files through a ``/r/{token}`` link.

- ``items``: the request item, its pointer, states and the members' record;
- ``manage``: create, list, read, edit, close, activity (members), the inventory and revoke (admins);
- ``public``: what the partner page shows and the partner's uploads (budgets reserved atomically);
- ``switch``: the deployment-wide on/off switch (``PUT /admin/settings``);
- ``errors``: the partner's answers.

Decisions: ``docs/upload-requests.md``.
"""
