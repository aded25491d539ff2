from services.console.app import SERVICE
from shared.service import run

run(SERVICE)
