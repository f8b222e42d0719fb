"""Sphinx configuration of the workbook's static website (``python3 tasks.py book``).

Jupyter Book 1's stack used directly: MyST-NB reads the committed, executed notebooks (never
runs them), sphinx-book-theme gives the layout, the launch (Binder) and download buttons.
``reglab.classroom.book`` stages the notebooks and sets where the buttons point with Sphinx
overrides (``-D html_theme_options.repository_url=...`` and ``...repository_branch=...``); the
values below are the defaults of a bare ``sphinx-build``.
"""

from reglab.classroom.book import PLACEHOLDER_REPOSITORY

project = "reglab: regularization in TensorFlow, every way"
author = "the reglab authors"
copyright = "the reglab authors (MIT); quotes from Stack Overflow under CC BY-SA"  # noqa: A001

extensions = ["myst_nb", "sphinx.ext.githubpages"]  # githubpages: writes .nojekyll
root_doc = "00_start_here"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# The notebooks are committed executed: show their stored outputs, run nothing.
nb_execution_mode = "off"
# No widget JavaScript from a CDN: the widgets need a kernel; the book has a static explorer.
nb_ipywidgets_js = {}
nb_merge_streams = True
# only the Solutions are folded (reglab.classroom.book tags them hide-cell)
nb_code_prompt_show = "Show the solution"
nb_code_prompt_hide = "Hide the solution"
myst_enable_extensions = ["dollarmath", "html_image"]
myst_heading_anchors = 3
# the anchors JupyterLab gives headings, which the notebooks link to
myst_heading_slug_func = "reglab.classroom.book.jupyterlab_anchor"
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "sphinx_book_theme"
html_title = "reglab"
html_copy_source = True
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": PLACEHOLDER_REPOSITORY,
    "repository_branch": "main",
    "path_to_docs": "notebooks",
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": True,
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
