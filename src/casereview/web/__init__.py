<<<<<<< HEAD
"""The web interface (`casereview serve`, docs/web.md): a second front end over the same
services as the CLI. `app` builds the Starlette application; `auth` holds sign-in,
sessions and CSRF; `pages` renders templates with what every page gets; `routes/` has
one module per noun. Imports nothing from the store: every read and write is a service
call."""
=======
"""The web interface (`casereview serve`): a front end over `casereview.services`, like
the command line (docs/architecture.md)."""
>>>>>>> wave-webshared
