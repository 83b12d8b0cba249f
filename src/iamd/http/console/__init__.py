"""The web console (`/console`): sign-in, sessions and the My security credentials page,
server-rendered from Jinja2 templates, every action an IAM operation run as the
signed-in user (docs/console.md)."""
