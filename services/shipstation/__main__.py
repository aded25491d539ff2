from services.shipstation.app import SERVICE
from shared.service import run

run(SERVICE)
