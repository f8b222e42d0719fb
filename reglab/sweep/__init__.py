"""The sweep: EasyNet trained through each of the thread's seven approaches, headless.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``run``            the settings (``make_run``, checked once; ``Run``), the approaches' names
                   and penalty kinds, the convention (slim's); imports no TensorFlow
``results``        ``SweepResult`` (per-epoch curves, slim convention) and the log behind it
``shared``         the TensorFlow plumbing the trainers share (graphs, Keras model, Adam)
``approaches``     the seven trainers, ``APPROACHES``, ``train`` and ``source``
``legacy``         runs ``tf_layers`` in a process with tf-keras 2 (``worker`` is that process)
``table``          ``reglab sweep``: a sweep over lambdas as a table or JSON
``compiled_loop``  a whole epoch of a custom training step in one XLA-compiled ``tf.function``
=================  ==========================================================================

``import reglab`` does not import this package; ``shared``, ``approaches`` and ``compiled_loop``
import TensorFlow when they are imported.
"""
