"""The web workspace: server-rendered pages for coordinators, physicians, manufacturers,
administrators and analysts, on the same use cases as the API (`rltnet.service.usecases`).

Pages are Jinja2 templates (`templates/`), with a little plain JavaScript only where
a live answer helps (the order form's dose-window check); every action is an HTML
form that works without it. A login sets an HttpOnly, SameSite=Strict cookie
holding the same opaque token the API uses; every form carries a CSRF token
derived from it.
"""
