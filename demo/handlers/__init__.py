"""What each event and named endpoint does: the analysis shared by the page and the API (`analysis`),
the page's updates (`page`), the invariance view (`invariance`), the explainer (`explainer`), and how a
refusal reaches the caller (`errors`). Nothing here knows the layout: demo.ui wires these functions to
components."""
