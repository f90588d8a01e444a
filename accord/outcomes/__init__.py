"""Outcome reports: recipients report back the outcomes they committed to in an agreement, and
providers see them beside the data they gave.

Design (in place of an ADR)
---------------------------

- **Commitments come from the signed document.** Each entry of an agreement's ``report_back``
  (``what``, ``due``, ``to_party_ids``) is a commitment. Every recipient of the agreement's
  flows owes it separately to the parties in ``to_party_ids`` (to the flows' providers when it
  names nobody); a party never owes a report to itself. Only agreements whose status is
  ``active`` owe anything; reports already made stay visible whatever becomes of the agreement.
- **Due dates** (``queries``): a date is one report, due that day; an ISO-8601 duration repeats
  from the term's start date (or the day the agreement came into force): the n-th report is due
  at start + n periods, counted from the start each time so short months do not drift, and none
  after the term's end date. Each due date covers the days since the previous one.
- **A report answers the earliest due date not yet reported**, so a late recipient catches up in
  order. A due date is ``reported``, ``overdue`` (its day has passed with no report) or ``due``.
- **Reporting** (``actions.report_outcomes``): a member of the owing organisation holding one
  of ``REPORTING_ROLES`` (analyst, data officer, senior manager, DPO) reports whole-number
  figures (measures proposed from the purposes' ``success_measures``, else their
  ``expected_outcomes``; free to add) and/or a narrative, for a period that has happened. It is
  audited (``outcome.reported``, refusals included) and the organisations it is owed to are
  notified (``OUTCOMES_REPORTED``). Reports hold counts, never details of people.
- **Reminders** (``reminders``, ``accord outcomes remind``): each commitment whose latest due
  date has passed unreported is flagged to the recipient and to the organisations it is owed to
  (``OUTCOMES_OVERDUE``), once per due date (``SentReminder``), audited as
  ``outcome.reminded``; earlier missing reports are counted in the message.
- **"The data they gave"**: beside each report the provider sees the agreement and the datasets
  its flows carry from it to the reporting recipient, with how many releases it published to it.
"""
