; Inno Setup 6 script of the LineInspector installer for Windows x64.
; UNTESTED: written on Linux, where it cannot be compiled; see installer/windows/README.md.
;
; Input: the PyInstaller onedir bundle in build\installer\dist\LineInspector (LineInspector.exe,
; the windowed app; lineinspect.exe, its console twin for the command line and the self-test;
; _internal\). Output: dist\LineInspector-<version>-windows-x86_64-setup.exe.
; Compile from the project root:  iscc /DAppVersion=0.1.0 installer\windows\lineinspector.iss

#define AppName "LineInspector"
#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define Root "..\.."
#define BundleDir Root + "\build\installer\dist\LineInspector"

[Setup]
AppId={{2F0C935C-234C-4919-83FD-E8DBEA3FA572}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
OutputDir={#Root}\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x86_64-setup
SetupIconFile={#Root}\resources\icons\lineinspector.ico
UninstallDisplayIcon={app}\LineInspector.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; per-machine by default (operators' PCs), per-user when the installing account is not an admin
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
; the whole onedir bundle, as PyInstaller made it
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#Root}\resources\icons\lineinspector.ico"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
; cmd /k strips one pair of outer quotes: the parameter is  /k ""<app>\lineinspect.exe" self-test"
Name: "{group}\{#AppName}"; Filename: "{app}\LineInspector.exe"; IconFilename: "{app}\lineinspector.ico"
Name: "{group}\{#AppName} self-test"; Filename: "{cmd}"; \
  Parameters: "/k """"{app}\lineinspect.exe"" self-test"""; IconFilename: "{app}\lineinspector.ico"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\LineInspector.exe"; \
  IconFilename: "{app}\lineinspector.ico"; Tasks: desktopicon

[Run]
Filename: "{cmd}"; Parameters: "/k """"{app}\lineinspect.exe"" self-test"""; \
  Description: "Run the self-test now (about a minute)"; Flags: postinstall unchecked
Filename: "{app}\LineInspector.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; \
  Flags: postinstall nowait skipifsilent

[UninstallDelete]
; Python byte-code caches written next to the program; recipes and results (in the user's
; data folder, %LOCALAPPDATA%\LineInspector) are kept
Type: filesandordirs; Name: "{app}\_internal\__pycache__"
