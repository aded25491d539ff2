from services.gateway.app import SERVICE
from shared.service import run

run(SERVICE)
