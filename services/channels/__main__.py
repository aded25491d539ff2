from services.channels.app import SERVICE
from shared.service import run

run(SERVICE)
