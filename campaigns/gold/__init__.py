"""Gold images: staff's reference boxes for some images of a campaign, and every submission scored against them.

``scores``: scoring a submission's gold images in the transaction that stores it
(``objects_replace`` calls ``gold_score_submission``) and scoring the current
submission again when a reference changes; ``selectors``: the reads (the gold
list, a campaign's quality figures, a lot's figures for the acceptance gate,
the scorecard's gold columns). The writes behind the endpoints (give, copy,
import, remove a reference) are ``campaigns.services.gold``; the maths is
``campaigns.scoring``. Nothing here is ever part of an agency's answer: a gold
image looks like any other image to the agency (docs/quality.md).
"""
