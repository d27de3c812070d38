"""The web interface's routes, one module per noun; each module lists its `routes`
(built with `web.handlers.get` and `post`) and `web.app` mounts them."""
