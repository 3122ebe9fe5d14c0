# Build the Windows installer of LineInspector (run from the project root in PowerShell):
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 [-Cuda]
# UNTESTED: written on Linux, where none of this can run; see installer\windows\README.md.
param([switch]$Cuda)
$ErrorActionPreference = "Stop"
Set-Location (Resolve-Path "$PSScriptRoot\..\..")

if (-not (Test-Path .venv\Scripts\python.exe)) { py -3.11 -m venv .venv }
$py = ".venv\Scripts\python.exe"
$torch = "torch==2.13.0"
if ($Cuda) { & $py -m pip install $torch }  # the CUDA build from PyPI
else { & $py -m pip install $torch --index-url https://download.pytorch.org/whl/cpu }
if ($LASTEXITCODE) { throw "installing torch failed" }
& $py -m pip install -e ".[installer]"
if ($LASTEXITCODE) { throw "installing the project failed" }
$version = (& $py -c "import core; print(core.__version__)").Trim()

& $py -m PyInstaller --noconfirm --clean --distpath build\installer\dist `
    --workpath build\installer\work installer\lineinspector.spec
if ($LASTEXITCODE) { throw "PyInstaller failed" }

# The fresh bundle must pass its own self-test (console twin: its output shows here).
& build\installer\dist\LineInspector\lineinspect.exe self-test
if ($LASTEXITCODE) { throw "the bundle FAILED its self-test; no installer made" }

$iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
if (-not (Test-Path $iscc)) { $iscc = "ISCC.exe" }
& $iscc "/DAppVersion=$version" installer\windows\lineinspector.iss
if ($LASTEXITCODE) { throw "Inno Setup failed" }
Write-Host "dist\LineInspector-$version-windows-x86_64-setup.exe"
