"""Sphinx configuration of the workbook's static website (``python3 tasks.py book``).

Jupyter Book 1's stack used directly: MyST-NB reads the committed, executed notebooks (never
runs them), sphinx-book-theme gives the layout, the launch (Binder, Colab), GitHub and download
buttons.  ``reglab.classroom.book`` stages the notebooks and sets where the buttons point with
Sphinx overrides (``-D html_theme_options.repository_url=...`` and ``...repository_branch=...``);
``setup`` below turns them into the theme's options once Sphinx has read them
(``reglab.classroom.book.theme_options``): no repository, no launch or GitHub buttons.
MathJax comes from a pinned package and is served with the site (``_static/mathjax``), so that
formulas are typeset offline; ``_static/reglab.css`` fits the pages to a phone's width.
"""

from pathlib import Path

from reglab.classroom.book import MATHJAX_PATH, copy_mathjax, theme_options

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
# only the Solutions are folded (reglab.classroom.book tags them hide-cell and names each
# button's exercise in the cell's metadata; these are the defaults)
nb_code_prompt_show = "Show the solution"
nb_code_prompt_hide = "Hide the solution"
myst_enable_extensions = ["dollarmath", "html_image"]
myst_heading_anchors = 3
# the anchors JupyterLab gives headings, which the notebooks link to
myst_heading_slug_func = "reglab.classroom.book.jupyterlab_anchor"
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# MathJax 3 from the site itself (reglab.classroom.book.copy_mathjax), never from a CDN
mathjax_path = MATHJAX_PATH

html_theme = "sphinx_book_theme"
html_title = "reglab"
html_copy_source = True
html_show_sourcelink = False
html_last_updated_fmt = None
html_static_path = ["_static"]
html_css_files = ["reglab.css"]
html_js_files = ["reglab.js"]
# figures carry scale 100% (reglab.classroom.book), so each links to its full-size image
html_scaled_image_link = True
# only the overrides' keys; the rest comes from theme_options() in setup()
html_theme_options = {"repository_branch": "main"}


def _theme_options(app, config) -> None:  # noqa: ANN001 - Sphinx's objects
    given = config.html_theme_options
    config.html_theme_options = theme_options(given.get("repository_url") or None,
                                              given.get("repository_branch") or "main")


def _copy_mathjax(app, exception) -> None:  # noqa: ANN001 - Sphinx's objects
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir))


def setup(app) -> None:  # noqa: ANN001 - Sphinx's application
    app.connect("config-inited", _theme_options)
    app.connect("build-finished", _copy_mathjax)
