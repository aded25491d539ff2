from services.intake.app import SERVICE
from shared.service import run

run(SERVICE)
