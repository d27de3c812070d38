"""The web interface (`casereview serve`, docs/web.md): a second front end over the same
services as the CLI. `app` builds the Starlette application; `auth` holds sign-in,
sessions and CSRF; `pages` renders templates with what every page gets; `routes/` has
one module per noun; `oidc` is the OpenID Connect client of a shared installation.
Imports nothing from the store: every read and write is a service call."""
