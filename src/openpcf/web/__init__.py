"""The web UI: server-rendered pages (Jinja2 + htmx, no Node build) in Chinese and English.

Stable names for page modules of other features (e.g. `pages_monitoring.py`):

- `openpcf.web.render.render(request, "folder/page.html", {...}, status_code=200)` renders a
  template with the common context: `user`, `lang`, `_` (translate), `csrf_token`, `nav`.
- Templates extend `base.html` and fill the blocks `title` and `content` (optional: `head` for
  extra <head> tags, `nav` to replace the header's links). The header lists the user's links
  (`openpcf.web.render.nav_for`); "Monitoring" points at `/monitoring` for enterprise and
  regulator users.
- Dependencies (in `openpcf.web.auth`): `SignedIn` (any signed-in user, else a redirect to
  /sign-in), `MaybeUser` (public pages), `Enterprise`, `EnterpriseWriter`, `Verifier`,
  `Regulator` (tenant kind, and role for writers; else a 403 page), `require(*kinds, roles=…)`
  for other combinations, and `Csrf` (put `dependencies=[Csrf]` on every POST route; forms
  carry `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`, htmx sends the
  header automatically). Each gives a `WebUser` with `.principal` (pass it to services),
  `.kind`, `.role`, `.tenant`, `.email`, `.can_write`.
- Raise `openpcf.web.auth.WebNotFound` / `WebForbidden` for the 404 / 403 pages.
- Text: write English inside `{{ _("...") }}` and add the Chinese to a `.po` file of your own
  under `web/i18n/zh/` (e.g. `monitoring.po`); every `.po` file there is loaded. A test checks
  that every `_("...")` string of every template has a translation.
- Routers: `openpcf.web.routes.PAGE_MODULES` / `OPTIONAL_MODULES` list the modules whose
  `router` (an `APIRouter(include_in_schema=False)`) is mounted; `pages_monitoring` is
  optional and mounted when present.
"""
