from services.tracking.app import SERVICE
from shared.service import run

run(SERVICE)
