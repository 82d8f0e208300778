from audit_workflow.reports.cycle_report.models import CycleReportJob, ReportJobStatus
from tests.access import COORDINATOR, MANAGER, roles

OVERSEERS = roles(COORDINATOR, MANAGER)

ROUTES = {
    "cycle_report.show": OVERSEERS,
    "cycle_report.generate": OVERSEERS,
    "cycle_report.download": OVERSEERS,
    "cycle_report.recommendations": roles(COORDINATOR),
    "cycle_report.context": roles(COORDINATOR),
}


def _report_job(db, world, la_key, objects):
    job = CycleReportJob(la_id=world.las[la_key].id, cycle_id=objects["cycle_id"], format="xlsx",
                         status=ReportJobStatus.DONE, progress=100, filename="cycle-report.xlsx", content=b"PK")
    db.add(job)
    db.flush()
    return job.id


PARAM_BUILDERS = {"report_job_id": _report_job}
