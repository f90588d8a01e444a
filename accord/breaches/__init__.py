"""Personal data breaches reported against agreements: the clocks, the steps, the evidence.

See docs/adr/0014-breaches.md. In short: any party's member with a data-reading or
data-protection role reports a suspected breach against an agreement (``actions.report``);
Accord starts the partner-notification clock (the agreement's ``breach_handling`` hours, else
its framework's, else 24) and the 72-hour ICO clock, both from discovery; tells every party's
DPO; and offers one-click suspension of the agreement. The breach then moves through the
steps in ``transitions`` (contain, assess, tell the ICO or record why not, tell the people or
record why not, close with lessons learned); ``deadlines`` says which clocks are met, late, due
or overdue, and ``accord breaches remind`` flags overdue steps once each.
"""
