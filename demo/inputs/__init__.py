"""What a visitor sends, checked once: every setting of every endpoint (`checks`, with the one
:class:`~demo.inputs.checks.InputError`), and the gradio components that leave the checking to it
(`components`). Image files are checked by demo.images."""
